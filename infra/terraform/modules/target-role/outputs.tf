output "role_arn" {
  description = "The role's ARN: the target's aws.roleArn in leasehold.yaml."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "The role's name."
  value       = aws_iam_role.this.name
}

output "max_session_duration" {
  description = "Longest session the role allows, in seconds (the target's maxDuration must not exceed it)."
  value       = aws_iam_role.this.max_session_duration
}
