output "execution_role_arn" {
  description = "ARN of the ECS task execution role (image pull, container logs)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arns" {
  description = "ARN of each service's task role, keyed like `services`."
  value       = { for key, role in aws_iam_role.task : key => role.arn }
}

output "deploy_role_arn" {
  description = "ARN of the role GitHub Actions assumes through OIDC to push the image and deploy the services."
  value       = aws_iam_role.deploy.arn
}

output "deploy_role_name" {
  description = "Name of the GitHub Actions deploy role."
  value       = aws_iam_role.deploy.name
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC identity provider the deploy role trusts."
  value       = local.github_oidc_provider_arn
}
