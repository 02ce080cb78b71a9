data "aws_partition" "current" {}

locals {
  # Target roles live under this IAM path, so the broker's permissions reach them and nothing else.
  # Keep it in step with infra/aws/*.json and modules/target-role.
  target_role_path = "/leasehold-target/"
  target_role_arns = "arn:${data.aws_partition.current.partition}:iam::*:role${local.target_role_path}*"
}

# ------------------------------------------------------------------------------------------------------
# The broker: the one identity Leasehold runs as.
#
# Role chaining: when Leasehold itself runs with role credentials (this role, assumed by an instance
# profile, an ECS task role, EKS IRSA or Pod Identity), AssumeRole on a target role is role chaining,
# and STS refuses any DurationSeconds above 3600 whatever the target's MaxSessionDuration. Keep the
# targets' maxDuration in leasehold.yaml at 1h or less in that setup.
# ------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "broker_trust" {
  statement {
    sid     = "WhateverRunsLeasehold"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.broker_trusted_principal_arns
    }
  }
}

resource "aws_iam_role" "broker" {
  name                 = var.broker_role_name
  description          = "Leasehold's broker: issues and revokes sessions on leasehold-target roles, rotates tagged secrets"
  assume_role_policy   = data.aws_iam_policy_document.broker_trust.json
  max_session_duration = 3600
}

# The same permissions as infra/aws/broker-permissions.json, plus what rotating Secrets Manager
# secrets needs (infra/test/terraform.test.ts keeps the two in step).
data "aws_iam_policy_document" "broker_permissions" {
  statement {
    sid       = "IssueSessionsOnTargetRoles"
    effect    = "Allow"
    actions   = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
    resources = [local.target_role_arns]
  }

  # Early revocation: a per-grant inline Deny on the target role, removed once the session has expired;
  # listing the role's inline policies lets the drift reconciliation find the ones no grant needs.
  statement {
    sid       = "RevokeSessionsEarly"
    effect    = "Allow"
    actions   = ["iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:ListRolePolicies"]
    resources = [local.target_role_arns]
  }

  # Rotation (create, set, test, finish): only secrets tagged for Leasehold. The broker cannot tag
  # secrets itself (no secretsmanager:TagResource), so it cannot widen this.
  statement {
    sid    = "RotateTaggedSecrets"
    effect = "Allow"
    actions = [
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
      "secretsmanager:DescribeSecret",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:secretsmanager:*:*:secret:*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${var.rotation_secret_tag_key}"
      values   = [var.rotation_secret_tag_value]
    }
  }

  # Rotating a static IAM user's access key (a rotation with awsIamUser): only the users named here.
  dynamic "statement" {
    for_each = length(var.rotated_iam_user_arns) > 0 ? [1] : []

    content {
      sid    = "RotateAccessKeysOfNamedUsers"
      effect = "Allow"
      actions = [
        "iam:ListAccessKeys",
        "iam:CreateAccessKey",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
      ]
      resources = var.rotated_iam_user_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "SecretsEncryptedWithOwnKeys"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.secrets_kms_key_arns

      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["secretsmanager.*.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "broker" {
  name   = "leasehold-broker"
  role   = aws_iam_role.broker.id
  policy = data.aws_iam_policy_document.broker_permissions.json
}

# ------------------------------------------------------------------------------------------------------
# Target roles: one module instance per `aws-role` target in leasehold.yaml (its aws.roleArn is the
# module's role_arn output).
# ------------------------------------------------------------------------------------------------------

module "prod_readonly" {
  source = "./modules/target-role"

  name                 = "prod-readonly"
  description          = "Read-only access to this account, granted just in time by Leasehold"
  broker_role_arn      = aws_iam_role.broker.arn
  managed_policy_arns  = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]
  max_session_duration = 3600
}
