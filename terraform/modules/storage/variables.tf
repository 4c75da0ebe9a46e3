variable "bucket_name" {
  description = "Name of the SHAZAM store bucket (uploads/, assets/, validations/, rejections/, ...)."
  type        = string
}

variable "store_prefix" {
  description = <<-EOT
    Key prefix of the store inside the bucket, without slashes: "" when SHAZAM_STORE_URL is
    s3://<bucket>, "shazam" when it is s3://<bucket>/shazam. Upload notifications and the
    upload expiry rule apply to "<prefix>/uploads/".
  EOT
  type        = string
  default     = ""
}

variable "compute_logs_prefix" {
  description = "Key prefix of Dagster's step logs (DAGSTER_COMPUTE_LOGS_PREFIX), without slashes."
  type        = string
  default     = "dagster/compute-logs"
}

variable "compute_log_expiration_days" {
  description = "Days after which step logs (S3ComputeLogManager) expire."
  type        = number
  default     = 90
}

variable "upload_suffix" {
  description = "Only uploads whose key ends with this raise an event (deliveries are ZIPs)."
  type        = string
  default     = ".zip"
}

variable "upload_expiration_days" {
  description = <<-EOT
    Days after which an uploaded ZIP under uploads/ expires. Ingest copies every accepted
    delivery into assets/<ASIN>/v<N>/, so an old upload is only needed to re-run ingest.
  EOT
  type        = number
  default     = 90
  validation {
    condition     = var.upload_expiration_days >= 1
    error_message = "upload_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version stays recoverable."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received event stays hidden; longer than two sensor ticks."
  type        = number
  default     = 120
}

variable "max_receive_count" {
  description = "Receives before a message that keeps failing moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a bucket that still holds objects (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cors_allowed_origins" {
  description = "Origins (https://<host>) whose pages may PUT to the bucket with presigned URLs: the studio's browser uploads. Empty: no CORS rule."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for origin in var.cors_allowed_origins : can(regex("^https://[^/*]+$", origin))])
    error_message = "cors_allowed_origins: https:// origins without a path or wildcard."
  }
}

variable "bucket_policy_statements" {
  description = "Further bucket policy statements (IAM JSON objects): modules/cdn's grant to CloudFront to read published/*."
  type        = list(any)
  default     = []
}

variable "kms_key_policy_statements" {
  description = "Further statements of the store key's policy (IAM JSON objects): modules/cdn's grant to CloudFront to decrypt what it reads."
  type        = list(any)
  default     = []
}
