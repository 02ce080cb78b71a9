variable "aws_region" {
  description = "Region the provider talks to. IAM is global; this only picks the endpoint."
  type        = string
}

variable "broker_role_name" {
  description = "Name of the IAM role Leasehold runs as."
  type        = string
  default     = "leasehold-broker"
}

variable "broker_trusted_principal_arns" {
  description = <<-EOT
    ARNs of the principals allowed to assume the broker role: whatever runs Leasehold (the role of an
    EC2 instance profile, an ECS task, a CI runner, or an account root). Nothing else can act as the
    broker.
  EOT
  type        = list(string)

  validation {
    condition = length(var.broker_trusted_principal_arns) > 0 && alltrue([
      for arn in var.broker_trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", arn))
    ])
    error_message = "Give at least one IAM principal ARN, like arn:aws:iam::123456789012:role/leasehold-runner."
  }
}

variable "rotation_secret_tag_key" {
  description = "Tag key that marks a Secrets Manager secret as rotated by Leasehold. The broker can touch no other secret."
  type        = string
  default     = "leasehold-rotation"
}

variable "rotation_secret_tag_value" {
  description = "Value the rotation tag must have."
  type        = string
  default     = "enabled"
}

variable "secrets_kms_key_arns" {
  description = <<-EOT
    Customer-managed KMS keys that encrypt the rotated secrets. Secrets encrypted with the default
    aws/secretsmanager key need nothing here; with your own key, the broker needs kms:Decrypt and
    kms:GenerateDataKey on it (through Secrets Manager only).
  EOT
  type        = list(string)
  default     = []
}

variable "rotated_iam_user_arns" {
  description = <<-EOT
    IAM users whose access keys Leasehold rotates (rotations with awsIamUser), as user ARNs. The broker
    gets iam:ListAccessKeys, CreateAccessKey, UpdateAccessKey and DeleteAccessKey on these users only.
  EOT
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags put on every resource this configuration creates."
  type        = map(string)
  default = {
    app        = "leasehold"
    managed-by = "terraform"
  }
}
