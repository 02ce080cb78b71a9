variable "name" {
  description = "Role name. The role is created under the IAM path /leasehold-target/."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "An IAM role name: 1 to 64 letters, digits and +=,.@_-."
  }
}

variable "description" {
  description = "What the role grants, shown in IAM."
  type        = string
  default     = "Granted just in time by Leasehold"
}

variable "broker_role_arn" {
  description = "ARN of Leasehold's broker role: the only principal that may assume this role."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.broker_role_arn))
    error_message = "Give the broker's role ARN, like arn:aws:iam::123456789012:role/leasehold-broker."
  }
}

variable "managed_policy_arns" {
  description = "Managed policies attached to the role: what a granted session may do (a grant's session policy can only narrow it)."
  type        = list(string)
  default     = []
}

variable "max_session_duration" {
  description = <<-EOT
    Longest session, in seconds (3600 to 43200). Leasehold never issues longer than this. Under role
    chaining (the broker itself runs with role credentials) STS allows at most 3600 whatever is set.
  EOT
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "IAM allows a maximum session duration between 3600 and 43200 seconds."
  }
}

variable "tags" {
  description = "Tags on the role."
  type        = map(string)
  default     = {}
}
