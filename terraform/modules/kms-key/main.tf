data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "this" {
  description             = var.description
  deletion_window_in_days = var.deletion_window_days
  enable_key_rotation     = true

  # The account root keeps administration of the key, so IAM policies decide who else may use
  # it; each service statement lets one AWS service use it on this account's behalf only.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid       = "AccountAdministration"
          Effect    = "Allow"
          Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
          Action    = "kms:*"
          Resource  = "*"
        },
      ],
      [
        for statement in var.service_statements : {
          Sid       = statement.sid
          Effect    = "Allow"
          Principal = { Service = statement.service }
          Action    = statement.actions
          Resource  = "*"
          Condition = statement.condition
        }
      ],
    )
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = var.alias_name
  target_key_id = aws_kms_key.this.key_id
}
