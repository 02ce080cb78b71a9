/** IAM users and their long-term access keys, as the stand-in's state holds them (iam-access-keys.ts serves them). */

export type AccessKeyStatus = "Active" | "Inactive";

export type AccessKey = {
  accessKeyId: string;
  secretAccessKey: string;
  status: AccessKeyStatus;
  createdAt: Date;
};

export type IamUser = {
  name: string;
  arn: string;
  account: string;
  userId: string;
  accessKeys: AccessKey[];
};

/** The users a sandbox knows, by name. */
export type IamUsers = Map<string, IamUser>;
