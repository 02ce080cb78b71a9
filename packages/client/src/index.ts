export * from "./lease-keeper.js";
export * from "./leasehold-client.js";
