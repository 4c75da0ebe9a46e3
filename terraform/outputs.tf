output "store_url" {
  description = "Value for SHAZAM_STORE_URL."
  value       = "s3://${aws_s3_bucket.store.bucket}"
}

output "upload_queue_url" {
  description = "Value for SHAZAM_UPLOAD_QUEUE_URL (turns on the SQS upload sensor)."
  value       = aws_sqs_queue.upload_events.url
}

output "dead_letter_queue_url" {
  description = "Where malformed upload events end up."
  value       = aws_sqs_queue.upload_events_dlq.url
}
