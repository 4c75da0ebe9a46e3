variable "region" {
  description = "AWS region of the store bucket and queues."
  type        = string
  default     = "us-east-1"
}

variable "bucket_name" {
  description = "Name of the SHAZAM store bucket (uploads/, assets/, validations/, rejections/)."
  type        = string
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
