output "state_bucket" {
  description = "bucket in ../env/<env>.backend.hcl."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "dynamodb_table in ../env/<env>.backend.hcl."
  value       = aws_dynamodb_table.locks.name
}

output "kms_key_arn" {
  description = "Key encrypting the state (kms_key_id of the backend block, optional)."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "Arguments for `terraform init -backend-config=...` in terraform/ (after -backend-config=env/<env>.backend.hcl, they override its placeholders)."
  value       = "-backend-config=\"bucket=${aws_s3_bucket.state.bucket}\" -backend-config=\"dynamodb_table=${aws_dynamodb_table.locks.name}\" -backend-config=\"region=${var.region}\""
}
