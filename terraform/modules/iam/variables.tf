variable "name" {
  description = "Name prefix of every role, e.g. `gridserve-staging`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the ECS cluster and its log groups; deploy permissions are scoped to it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-southeast-2."
  }
}

variable "cluster_name" {
  description = "Name of the ECS cluster the deploy role may deploy to."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.cluster_name))
    error_message = "cluster_name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "services" {
  description = "The ECS services, keyed by role (tiles, timeseries): the service name and the log group of its containers. Each gets its own task role; the deploy role may update exactly these services and read exactly these log groups."
  type = map(object({
    service_name   = string
    log_group_name = string
  }))

  validation {
    condition     = length(var.services) > 0 && alltrue([for key in keys(var.services) : can(regex("^[a-z][a-z0-9-]{0,15}$", key))])
    error_message = "services must have at least one entry, keyed by 1-16 lowercase letters, digits or hyphens."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the one ECR repository the deploy role may push to and the execution role may pull from."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
}

variable "data_bucket_arn" {
  description = "ARN of the data bucket the task roles may read."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn))
    error_message = "data_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "data_kms_key_arn" {
  description = "ARN of the KMS key encrypting the data bucket; the task roles get kms:Decrypt on it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.data_kms_key_arn))
    error_message = "data_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "github_repository" {
  description = "The GitHub repository (`owner/name`) whose workflows may assume the deploy role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be `owner/name`, e.g. example-org/scidata-platform."
  }
}

variable "github_environments" {
  description = "GitHub deployment environments whose jobs may assume the deploy role (the OIDC `sub` must be `repo:<owner/name>:environment:<env>`)."
  type        = list(string)

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for env in var.github_environments : can(regex("^[A-Za-z0-9._-]{1,255}$", env))])
    error_message = "github_environments must list at least one GitHub environment name (letters, digits, . _ -); wildcards are not allowed."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC identity provider. Set to false when another stack (e.g. the other environment in the same account) already created it, and pass its ARN in `github_oidc_provider_arn`."
  type        = bool
  default     = true
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing GitHub Actions OIDC identity provider; required when `create_github_oidc_provider` is false, ignored otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com OIDC provider."
  }
}

variable "deploy_role_max_session_seconds" {
  description = "Longest session a deploy job may hold the deploy role for."
  type        = number
  default     = 3600

  validation {
    condition     = var.deploy_role_max_session_seconds >= 900 && var.deploy_role_max_session_seconds <= 43200
    error_message = "deploy_role_max_session_seconds must be between 900 and 43200."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "promote_from_repository_arn" {
  description = "ARN of the ECR repository this environment's releases are promoted from by digest (production: staging's); the deploy role may pull from it. Null: releases are built and pushed here."
  type        = string
  default     = null

  validation {
    condition     = var.promote_from_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.promote_from_repository_arn))
    error_message = "promote_from_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>) or null."
  }
}
