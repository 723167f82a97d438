data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition   = data.aws_partition.current.partition
  account_id  = data.aws_caller_identity.current.account_id
  github_host = "token.actions.githubusercontent.com"

  cluster_arn  = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:cluster/${var.cluster_name}"
  service_arns = [for service in values(var.services) : "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service/${var.cluster_name}/${service.service_name}"]
  log_group_arns = flatten([for service in values(var.services) : [
    "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:${service.log_group_name}",
    "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:${service.log_group_name}:*",
  ]])

  github_oidc_provider_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.github_oidc_provider_arn
  github_subjects          = [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"]
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Task execution role: what the ECS agent needs to start the containers (pull the image, ship
# their logs). Shared by the services, since they run the same image.
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  name               = "${var.name}-task-execution"
  description        = "ECS task execution role of ${var.name}: pulls the service image and writes container logs"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuthentication"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullServiceImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid = "WriteContainerLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [for service in values(var.services) : "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:${service.log_group_name}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-image-and-write-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------------------------------------
# Task roles: what the application itself may do. One per service, read-only on the data.
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "task" {
  for_each = var.services

  name               = "${var.name}-${each.key}-task"
  description        = "ECS task role of the ${each.key} service of ${var.name}: read-only access to the data bucket"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  tags = merge(var.tags, { Service = each.key })
}

data "aws_iam_policy_document" "task_read_data" {
  statement {
    sid       = "ListDataBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.data_bucket_arn]
  }

  statement {
    sid       = "ReadDataObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.data_bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptDataObjects"
    actions   = ["kms:Decrypt"]
    resources = [var.data_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "task_read_data" {
  for_each = aws_iam_role.task

  name   = "read-data-bucket"
  role   = each.value.id
  policy = data.aws_iam_policy_document.task_read_data.json
}

# ---------------------------------------------------------------------------------------------
# GitHub Actions deploy role, assumable only through OIDC from this repository's environments.
# ---------------------------------------------------------------------------------------------
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_host}:sub"
      values   = local.github_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  description          = "Assumed by GitHub Actions (${var.github_repository}, environments ${join(", ", var.github_environments)}) to push the image and deploy the ECS services of ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = var.deploy_role_max_session_seconds

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_github_oidc_provider || var.github_oidc_provider_arn != null
      error_message = "github_oidc_provider_arn is required when create_github_oidc_provider is false: pass the ARN of the existing token.actions.githubusercontent.com provider."
    }
  }
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "EcrAuthentication"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushAndInspectServiceImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  dynamic "statement" {
    for_each = var.promote_from_repository_arn == null ? [] : [var.promote_from_repository_arn]

    content {
      sid = "PullImageToPromote"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
      ]
      resources = [statement.value]
    }
  }

  # Task definition calls support no resource-level permissions in ECS; the region condition is
  # the narrowest constraint AWS offers for them. ListTaskDefinitions finds the previous revision
  # when a rollback has no recorded restore point.
  statement {
    sid = "RegisterAndDescribeTaskDefinitions"
    actions = [
      "ecs:DescribeTaskDefinition",
      "ecs:ListTaskDefinitions",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.region]
    }
  }

  statement {
    sid = "DeployServices"
    # Tags hold each service's restore point while a deploy runs, so a killed run can be undone.
    actions = [
      "ecs:DescribeServices",
      "ecs:ListTagsForResource",
      "ecs:TagResource",
      "ecs:UntagResource",
      "ecs:UpdateService",
    ]
    resources = local.service_arns
  }

  statement {
    sid       = "DescribeCluster"
    actions   = ["ecs:DescribeClusters"]
    resources = [local.cluster_arn]
  }

  statement {
    sid       = "ListClusterTasks"
    actions   = ["ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "DescribeClusterTasks"
    actions   = ["ecs:DescribeTasks"]
    resources = ["arn:${local.partition}:ecs:${var.region}:${local.account_id}:task/${var.cluster_name}/*"]
  }

  statement {
    sid = "ReadServiceLogsForFailureDossier"
    actions = [
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
    ]
    resources = local.log_group_arns
  }

  # The pre-deploy check confirms the services' log groups exist. DescribeLogGroups can only be
  # scoped to the account's log groups in the region, not to one group.
  statement {
    sid       = "CheckServiceLogGroupsExist"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
  }

  statement {
    sid     = "PassOnlyTheServiceRoles"
    actions = ["iam:PassRole"]
    resources = concat(
      [aws_iam_role.execution.arn],
      [for role in aws_iam_role.task : role.arn],
    )

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "push-image-and-deploy-services"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
