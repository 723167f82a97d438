data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "this" {
  description             = "Encrypts the images of the ${var.name} ECR repository"
  deletion_window_in_days = var.key_deletion_window_days
  enable_key_rotation     = true

  # The account root keeps administration of the key; ECR itself uses it through grants it
  # creates when the repository is made, so no service principal is listed here.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/ecr/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_ecr_repository" "this" {
  name = var.name
  # Every tag is immutable except `latest`, which the pipeline moves on each release; deploys
  # and rollbacks use digests, so `latest` is only a convenience pointer.
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"
  force_delete         = false

  image_tag_mutability_exclusion_filter {
    filter      = "latest"
    filter_type = "WILDCARD"
  }

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the ${var.keep_image_count} most recent images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_image_count
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Promotion copies the digest staging tested into production's own repository, so production's
# deploy role must be able to read this one; nobody else outside the account can.
data "aws_iam_policy_document" "promotion_pull" {
  count = length(var.pull_principal_arns) > 0 ? 1 : 0

  statement {
    sid = "PromotionPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
    ]

    principals {
      type        = "AWS"
      identifiers = var.pull_principal_arns
    }
  }
}

resource "aws_ecr_repository_policy" "promotion_pull" {
  count = length(var.pull_principal_arns) > 0 ? 1 : 0

  repository = aws_ecr_repository.this.name
  policy     = data.aws_iam_policy_document.promotion_pull[0].json
}
