output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = aws_ecs_service.this.id
}

output "container_name" {
  description = "Name of the application container in the task definition."
  value       = var.container_name
}

output "task_definition_family" {
  description = "Family of the service's task definitions; the pipeline registers new revisions in it."
  value       = aws_ecs_task_definition.this.family
}

output "initial_task_definition_arn" {
  description = "ARN of the task definition revision Terraform created. The running revision is whatever the pipeline deployed last."
  value       = aws_ecs_task_definition.this.arn
}

output "log_group_name" {
  description = "Name of the CloudWatch Logs group of the service's containers."
  value       = aws_cloudwatch_log_group.this.name
}

output "security_group_id" {
  description = "ID of the service's security group."
  value       = aws_security_group.service.id
}
