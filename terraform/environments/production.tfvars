# Production: highly available (NAT per zone, three zones, two tasks minimum). Keys must match
# staging.tfvars.
environment = "production"
region      = "ap-southeast-2"

vpc_cidr           = "10.50.0.0/16"
availability_zones = ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]
single_nat_gateway = false

certificate_arn             = "arn:aws:acm:ap-southeast-2:222222222222:certificate/00000000-0000-0000-0000-000000000002"
github_repository           = "example-org/scidata-platform"
github_environments         = ["production"]
create_github_oidc_provider = true

# Promotion: production copies the digest staging tested from staging's repository.
promote_from_repository_arn   = "arn:aws:ecr:ap-southeast-2:111111111111:repository/gridserve-staging"
promotion_pull_principal_arns = []

ecr_keep_image_count = 100

services = {
  tiles = {
    cpu           = 1024
    memory        = 2048
    desired_count = 2
    min_capacity  = 2
    max_capacity  = 10
  }
  timeseries = {
    cpu           = 1024
    memory        = 2048
    desired_count = 2
    min_capacity  = 2
    max_capacity  = 6
  }
}

log_retention_days                     = 731
access_log_retention_days              = 365
data_noncurrent_version_retention_days = 30

waf_rate_limit_per_5_minutes = 5000
alb_5xx_alarm_threshold      = 5
cpu_alarm_threshold_percent  = 80
alarm_email_addresses        = []
