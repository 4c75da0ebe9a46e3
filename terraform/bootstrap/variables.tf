variable "region" {
  description = "Region of the state bucket and lock table (region in env/<env>.backend.hcl)."
  type        = string
  default     = "eu-west-1"
}

variable "state_bucket_name" {
  description = "Globally unique name of the state bucket, e.g. shazam-terraform-state-<account id>."
  type        = string
}

variable "lock_table_name" {
  description = "DynamoDB table holding state locks."
  type        = string
  default     = "shazam-terraform-locks"
}

variable "noncurrent_version_expiration_days" {
  description = "Days an old state version stays recoverable."
  type        = number
  default     = 90
}
