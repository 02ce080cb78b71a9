import { describe, expect, it } from "vitest";
import { mysqlCloneGrants, postgresCloneStatement } from "./user-clone.js";

describe("cloning the first user's grants for the alternate", () => {
  it("renames the grantee, drops the password hash and plugin, and keeps the account's options as an ALTER USER", () => {
    const lines = [
      "GRANT `app_reader` TO `orders_app`@`%`",
      "GRANT USAGE ON *.* TO `orders_app`@`%` IDENTIFIED BY PASSWORD '*35634501D97C7E707ABEC4E597B0130D5D212B3C'",
      "GRANT USAGE ON *.* TO `orders_app`@`%` IDENTIFIED VIA ed25519 USING 'vU2Y' OR unix_socket REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 5",
      "GRANT SELECT, INSERT ON `orders`.* TO `orders_app`@`%` WITH GRANT OPTION",
      "SET DEFAULT ROLE `app_reader` FOR `orders_app`@`%`",
    ];
    expect(mysqlCloneGrants(lines, "orders_app", "orders_b")).toEqual([
      "GRANT `app_reader` TO `orders_b`@`%`",
      "ALTER USER `orders_b`@`%` REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 5",
      "GRANT SELECT, INSERT ON `orders`.* TO `orders_b`@`%` WITH GRANT OPTION",
      "SET DEFAULT ROLE `app_reader` FOR `orders_b`@`%`",
    ]);
  });

  it("keeps a global GRANT OPTION as a grant", () => {
    const line = "GRANT USAGE ON *.* TO `orders_app`@`%` IDENTIFIED BY PASSWORD '*3563450' WITH GRANT OPTION";
    expect(mysqlCloneGrants([line], "orders_app", "orders_b")).toEqual([
      "GRANT USAGE ON *.* TO `orders_b`@`%` WITH GRANT OPTION",
    ]);
  });

  it("refuses a line it cannot copy without repeating it", () => {
    const line = "GRANT USAGE ON *.* TO `orders_app`@`10.%` IDENTIFIED BY PASSWORD '*3563450'";
    expect(() => mysqlCloneGrants([line], "orders_app", "orders_b")).toThrow(
      /^line 1 of SHOW GRANTS for orders_app is not a grant to orders_app@'%' Leasehold can copy$/,
    );
  });

  it("makes the PostgreSQL alternate a member of the first user, or creates it as one", () => {
    expect(postgresCloneStatement("orders_app", "orders_b", false)).toBe(
      'CREATE ROLE "orders_b" LOGIN INHERIT IN ROLE "orders_app"',
    );
    expect(postgresCloneStatement("orders_app", "orders_b", true)).toBe('GRANT "orders_app" TO "orders_b"');
  });
});
