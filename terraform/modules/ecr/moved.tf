# The repository's key moved into the shared kms-key module: state created before the move
# migrates on the next plan and the key is not destroyed (tests/test_terraform_cli.py plans it).

moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.key.aws_kms_alias.this
}
