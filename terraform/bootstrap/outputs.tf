output "state_bucket" {
  description = "bucket of the envs' backend \"s3\" block."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "dynamodb_table of the envs' backend \"s3\" block."
  value       = aws_dynamodb_table.locks.name
}

output "kms_key_arn" {
  description = "Key encrypting the state (kms_key_id of the backend block, optional)."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "Arguments for `terraform init -backend-config=...` in envs/dev and envs/prod."
  value       = "-backend-config=\"bucket=${aws_s3_bucket.state.bucket}\" -backend-config=\"dynamodb_table=${aws_dynamodb_table.locks.name}\" -backend-config=\"region=${var.region}\""
}
