output "region" {
  description = "AWS region of the environment."
  value       = var.region
}

output "alb_url" {
  description = "HTTPS base URL of the load balancer, the address the smoke tests call."
  value       = module.alb.url
}

output "alb_dns_name" {
  description = "DNS name of the load balancer, for a DNS record matching the certificate."
  value       = module.alb.dns_name
}

output "ecr_repository_url" {
  description = "URL of the ECR repository the pipeline pushes the one service image to."
  value       = module.ecr.repository_url
}

output "cluster_name" {
  description = "Name of the ECS cluster running both services."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service name per service role (`tiles`, `timeseries`)."
  value       = { for key, service in module.service : key => service.service_name }
}

output "container_names" {
  description = "Name of the application container in each service's task definition, keyed by service role: the container whose image the pipeline replaces."
  value       = { for key, service in module.service : key => service.container_name }
}

output "log_group_names" {
  description = "CloudWatch Logs group of each service's containers, keyed by service role (read for failure reports)."
  value       = { for key, service in module.service : key => service.log_group_name }
}

output "deploy_role_arn" {
  description = "ARN of the role the GitHub deploy job assumes through OIDC."
  value       = module.iam.deploy_role_arn
}

output "data_bucket_name" {
  description = "Name of the S3 bucket holding the Zarr stores and COGs."
  value       = module.data.bucket_name
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the environment's alarms notify."
  value       = module.monitoring.alarm_topic_arn
}

output "pipeline" {
  description = "Everything the deploy pipeline reads, as one object (`terraform output -json pipeline`): environment, region, alb_url, ecr_repository_url, cluster_name, deploy_role_arn, service_names, container_names and log_group_names (maps keyed by service role), and deploy_order (the roles in the order to deploy them, one after the other)."
  value = {
    environment        = var.environment
    region             = var.region
    alb_url            = module.alb.url
    ecr_repository_url = module.ecr.repository_url
    cluster_name       = aws_ecs_cluster.this.name
    deploy_role_arn    = module.iam.deploy_role_arn
    service_names      = { for key, service in module.service : key => service.service_name }
    container_names    = { for key, service in module.service : key => service.container_name }
    log_group_names    = { for key, service in module.service : key => service.log_group_name }
    deploy_order       = ["tiles", "timeseries"]
  }
}
