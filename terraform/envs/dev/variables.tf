variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zones" {
  description = "Two (or more) zones of the region for subnets, nodes and the database."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b"]
}

variable "bucket_name" {
  description = "Name of the store bucket (globally unique), e.g. shazam-dev-<account id>."
  type        = string
}

variable "store_prefix" {
  description = "Key prefix of the store in the bucket: SHAZAM_STORE_URL=s3://<bucket>/<store_prefix> (deploy/k8s/env)."
  type        = string
  default     = "shazam"
}

variable "upload_expiration_days" {
  description = "Days after which uploaded ZIPs under uploads/ expire."
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version stays recoverable."
  type        = number
  default     = 7
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster."
  type        = string
  default     = "1.33"
}

variable "api_allowed_cidrs" {
  description = "CIDRs that may reach the Kubernetes API over the internet; empty keeps it private."
  type        = list(string)
  default     = []
}

variable "admin_principal_arns" {
  description = "IAM roles/users given cluster-admin (CI deploy role, operators)."
  type        = list(string)
  default     = []
}

variable "notify_sns_topic_arn" {
  description = "SNS topic the pipeline may publish reviewer decisions to (SHAZAM_NOTIFY_URL=sns:<arn>); null for none."
  type        = string
  default     = null
}
