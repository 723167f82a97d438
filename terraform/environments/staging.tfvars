# Staging: same shape as production, smaller and cheaper. Keys must match production.tfvars.
environment = "staging"
region      = "ap-southeast-2"

vpc_cidr           = "10.40.0.0/16"
availability_zones = ["ap-southeast-2a", "ap-southeast-2b"]
single_nat_gateway = true

certificate_arn             = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000001"
github_repository           = "example-org/scidata-platform"
github_environments         = ["staging"]
create_github_oidc_provider = true

# Promotion: production copies the digest staging tested from staging's repository.
promote_from_repository_arn   = null
promotion_pull_principal_arns = ["arn:aws:iam::222222222222:role/gridserve-production-github-deploy"]

ecr_keep_image_count = 30

services = {
  tiles = {
    cpu           = 512
    memory        = 1024
    desired_count = 1
    min_capacity  = 1
    max_capacity  = 3
  }
  timeseries = {
    cpu           = 512
    memory        = 1024
    desired_count = 1
    min_capacity  = 1
    max_capacity  = 3
  }
}

log_retention_days                     = 365
access_log_retention_days              = 90
data_noncurrent_version_retention_days = 7

waf_rate_limit_per_5_minutes = 2000
alb_5xx_alarm_threshold      = 20
cpu_alarm_threshold_percent  = 90
alarm_email_addresses        = []
