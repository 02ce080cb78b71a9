output "broker_role_arn" {
  description = "The role Leasehold runs as: give it to whatever runs Leasehold (its credentials chain assumes it)."
  value       = aws_iam_role.broker.arn
}

output "broker_role_name" {
  description = "Name of the broker role."
  value       = aws_iam_role.broker.name
}

output "target_role_path" {
  description = "IAM path every target role lives under."
  value       = local.target_role_path
}

output "prod_readonly_role_arn" {
  description = "aws.roleArn for the prod-readonly target in leasehold.yaml."
  value       = module.prod_readonly.role_arn
}
