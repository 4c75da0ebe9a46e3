output "bucket_name" {
  description = "Name of the store bucket."
  value       = aws_s3_bucket.store.bucket
}

output "bucket_arn" {
  description = "ARN of the store bucket."
  value       = aws_s3_bucket.store.arn
}

output "store_url" {
  description = "Value for SHAZAM_STORE_URL."
  value       = trim("s3://${aws_s3_bucket.store.bucket}/${local.store_prefix}", "/")
}

output "object_prefixes" {
  description = "Key prefixes the pipeline writes: the store and Dagster's step logs."
  value       = [local.store_prefix, local.compute_logs_prefix]
}

output "compute_logs_prefix" {
  description = "DAGSTER_COMPUTE_LOGS_PREFIX (the bucket is DAGSTER_COMPUTE_LOGS_BUCKET)."
  value       = trim(local.compute_logs_prefix, "/")
}

output "kms_key_arn" {
  description = "KMS key encrypting the bucket's objects and the queues' messages."
  value       = aws_kms_key.store.arn
}

output "upload_queue_url" {
  description = "Value for SHAZAM_UPLOAD_QUEUE_URL (turns on the SQS upload sensor)."
  value       = aws_sqs_queue.upload_events.url
}

output "upload_queue_arn" {
  description = "ARN of the upload event queue."
  value       = aws_sqs_queue.upload_events.arn
}

output "dead_letter_queue_url" {
  description = "Where malformed upload events end up."
  value       = aws_sqs_queue.upload_events_dlq.url
}

output "store_key_prefix" {
  description = "The store's key prefix in the bucket: \"\" or ending in \"/\" (what IAM policies put after the bucket ARN)."
  value       = local.store_prefix
}

output "published_prefix" {
  description = "Key prefix of the product pages in the bucket, <store prefix>published/: the shop's origin path (modules/cdn)."
  value       = local.published_prefix
}

output "bucket_regional_domain_name" {
  description = "The bucket's regional domain name: the shop's origin (modules/cdn)."
  value       = aws_s3_bucket.store.bucket_regional_domain_name
}

output "account_id" {
  description = "The AWS account the bucket is in."
  value       = local.account_id
}
