data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id

  tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  container_port    = 8080
  health_check_path = "/health"

  # Every name the pipeline needs is decided here, once, and exported through outputs.
  services = {
    tiles = {
      service_name   = "${local.name}-tiles"
      container_name = "tiles"
      log_group_name = "/ecs/${local.name}/tiles"
      path_patterns  = ["/tiles/*", "/health", "/metrics"]
      priority       = 10
    }
    timeseries = {
      service_name   = "${local.name}-timeseries"
      container_name = "timeseries"
      log_group_name = "/ecs/${local.name}/timeseries"
      path_patterns  = ["/api/*"]
      priority       = 20
    }
  }

  cluster_name     = local.name
  data_bucket_name = "${local.name}-data-${local.account_id}"
}

# One key for every CloudWatch Logs group of the environment (containers, flow logs, WAF, ECS exec).
module "logs_key" {
  source = "./modules/kms-key"

  description          = "Encrypts the CloudWatch Logs groups of ${local.name}"
  alias_name           = "alias/logs/${local.name}"
  deletion_window_days = var.key_deletion_window_days
  service_statements = [
    {
      sid     = "CloudWatchLogsOfThisAccount"
      service = "logs.${var.region}.amazonaws.com"
      actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      condition = {
        ArnLike = {
          "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:${var.region}:${local.account_id}:log-group:*"
        }
      }
    },
  ]
}

module "network" {
  source = "./modules/network"

  name                    = local.name
  region                  = var.region
  cidr_block              = var.vpc_cidr
  availability_zones      = var.availability_zones
  single_nat_gateway      = var.single_nat_gateway
  flow_log_retention_days = var.log_retention_days
  logs_kms_key_arn        = module.logs_key.arn
}

module "ecr" {
  source = "./modules/ecr"

  name                     = local.name
  keep_image_count         = var.ecr_keep_image_count
  key_deletion_window_days = var.key_deletion_window_days
  pull_principal_arns      = var.promotion_pull_principal_arns
}

module "alb" {
  source = "./modules/alb"

  name                         = local.name
  vpc_id                       = module.network.vpc_id
  vpc_cidr_block               = module.network.vpc_cidr_block
  public_subnet_ids            = module.network.public_subnet_ids
  certificate_arn              = var.certificate_arn
  target_port                  = local.container_port
  health_check_path            = local.health_check_path
  routes                       = { for key, service in local.services : key => { path_patterns = service.path_patterns, priority = service.priority } }
  deletion_protection          = var.alb_deletion_protection
  access_log_bucket_name       = "${local.name}-access-logs-${local.account_id}"
  access_log_retention_days    = var.access_log_retention_days
  waf_log_retention_days       = var.log_retention_days
  waf_rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  logs_kms_key_arn             = module.logs_key.arn
}

# The data bucket's key. Made here and handed to the data module rather than made inside it:
# checkov cannot follow one nested module's output into another (module.data.module.key into
# module.data.module.bucket) and would drop the bucket's encryption checks (tests/test_gates.py).
# Readers get kms:Decrypt through their own IAM policies; the key policy only delegates to IAM.
module "data_key" {
  source = "./modules/kms-key"

  description          = "Encrypts the objects of the ${local.data_bucket_name} data bucket"
  alias_name           = "alias/s3/${local.data_bucket_name}"
  deletion_window_days = var.key_deletion_window_days
}

module "data" {
  source = "./modules/data"

  bucket_name                       = local.data_bucket_name
  access_log_bucket_name            = module.alb.access_log_bucket_name
  noncurrent_version_retention_days = var.data_noncurrent_version_retention_days
  kms_key_arn                       = module.data_key.arn
}

module "iam" {
  source = "./modules/iam"

  name                        = local.name
  region                      = var.region
  cluster_name                = local.cluster_name
  services                    = { for key, service in local.services : key => { service_name = service.service_name, log_group_name = service.log_group_name } }
  ecr_repository_arn          = module.ecr.repository_arn
  data_bucket_arn             = module.data.bucket_arn
  data_kms_key_arn            = module.data_key.arn
  github_repository           = var.github_repository
  github_environments         = var.github_environments
  create_github_oidc_provider = var.create_github_oidc_provider
  github_oidc_provider_arn    = var.github_oidc_provider_arn
  promote_from_repository_arn = var.promote_from_repository_arn
}

resource "aws_cloudwatch_log_group" "ecs_exec" {
  name              = "/ecs/${local.name}/exec"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.logs_key.arn
}

resource "aws_ecs_cluster" "this" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  configuration {
    execute_command_configuration {
      kms_key_id = module.logs_key.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.ecs_exec.name
      }
    }
  }
}

module "service" {
  source   = "./modules/ecs-service"
  for_each = local.services

  name                              = each.value.service_name
  app_role                          = each.key
  region                            = var.region
  cluster_arn                       = aws_ecs_cluster.this.arn
  cluster_name                      = aws_ecs_cluster.this.name
  container_name                    = each.value.container_name
  image                             = "${module.ecr.repository_url}:${var.bootstrap_image_tag}"
  container_port                    = local.container_port
  health_check_path                 = local.health_check_path
  environment                       = var.app_environment
  cpu                               = var.services[each.key].cpu
  memory                            = var.services[each.key].memory
  desired_count                     = var.services[each.key].desired_count
  min_capacity                      = var.services[each.key].min_capacity
  max_capacity                      = var.services[each.key].max_capacity
  cpu_target_percent                = var.cpu_target_percent
  health_check_grace_period_seconds = var.health_check_grace_period_seconds
  execution_role_arn                = module.iam.execution_role_arn
  task_role_arn                     = module.iam.task_role_arns[each.key]
  vpc_id                            = module.network.vpc_id
  vpc_cidr_block                    = module.network.vpc_cidr_block
  s3_prefix_list_id                 = module.network.s3_prefix_list_id
  private_subnet_ids                = module.network.private_subnet_ids
  alb_security_group_id             = module.alb.security_group_id
  target_group_arn                  = module.alb.target_group_arns[each.key]
  log_group_name                    = each.value.log_group_name
  log_retention_days                = var.log_retention_days
  logs_kms_key_arn                  = module.logs_key.arn

  # The listener rules must exist before a service registers targets behind them.
  depends_on = [module.alb]
}

module "monitoring" {
  source = "./modules/monitoring"

  name                      = local.name
  alb_arn_suffix            = module.alb.arn_suffix
  target_group_arn_suffixes = module.alb.target_group_arn_suffixes
  cluster_name              = aws_ecs_cluster.this.name
  service_names             = { for key, service in module.service : key => service.service_name }
  alb_5xx_threshold         = var.alb_5xx_alarm_threshold
  cpu_threshold_percent     = var.cpu_alarm_threshold_percent
  alarm_email_addresses     = var.alarm_email_addresses
  key_deletion_window_days  = var.key_deletion_window_days
}
