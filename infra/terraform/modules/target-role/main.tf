# A role Leasehold grants sessions on. Mirrors infra/aws/target-role-trust.json: only the broker may
# assume it, and only while setting the lh-grant and lh-request session tags and a source identity, so
# every session in CloudTrail carries the approval it came from.

locals {
  path = "/leasehold-target/"
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "OnlyLeaseholdWithItsTags"
    effect  = "Allow"
    actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = [var.broker_role_arn]
    }

    # StringLike "*" fails when the key is absent: the tags and the source identity must be set.
    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/lh-grant"
      values   = ["*"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/lh-request"
      values   = ["*"]
    }

    condition {
      test     = "StringLike"
      variable = "sts:SourceIdentity"
      values   = ["*"]
    }
  }
}

# No inline_policy block on purpose: Leasehold adds and removes per-grant inline Deny policies for early
# revocation, and Terraform must leave them alone.
resource "aws_iam_role" "this" {
  name                 = var.name
  path                 = local.path
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each = toset(var.managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}
