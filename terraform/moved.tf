# The CloudWatch Logs key and the data bucket's key moved into the shared kms-key module (the
# latter out of the data module): state created before the move migrates on the next plan and no
# key is destroyed (tests/test_terraform_cli.py plans it).

moved {
  from = aws_kms_key.logs
  to   = module.logs_key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.logs
  to   = module.logs_key.aws_kms_alias.this
}

moved {
  from = module.data.aws_kms_key.this
  to   = module.data_key.aws_kms_key.this
}

moved {
  from = module.data.aws_kms_alias.this
  to   = module.data_key.aws_kms_alias.this
}
