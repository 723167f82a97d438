output "repository_name" {
  description = "Name of the ECR repository."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "ARN of the ECR repository, for scoping push and pull permissions."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "URL of the ECR repository (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`), the address images are pushed to."
  value       = aws_ecr_repository.this.repository_url
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the repository's images."
  value       = module.key.arn
}
