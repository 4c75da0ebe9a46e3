variable "role_name" {
  description = "Name of the Dagster IRSA role (the serviceAccount annotation in deploy/helm/values.yaml)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IRSA OIDC provider (modules/eks)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path, without https:// (modules/eks)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the Dagster release (helm --namespace, deploy/README.md)."
  type        = string
  default     = "shazam"
}

variable "service_account" {
  description = "Service account every Dagster pod runs as (values.yaml serviceAccount.name)."
  type        = string
  default     = "dagster"
}

variable "bucket_arn" {
  description = "ARN of the store bucket: read, write, list, delete."
  type        = string
}

variable "object_prefixes" {
  description = <<-EOT
    Key prefixes (ending in "/", or "" for the whole bucket) whose objects the role may read,
    write and delete: the store prefix and the compute-log prefix (modules/storage).
  EOT
  type        = list(string)
  default     = [""]
}

variable "kms_key_arn" {
  description = "KMS key encrypting the bucket and the queue (modules/storage)."
  type        = string
}

variable "queue_arn" {
  description = "ARN of the upload event queue: receive and delete."
  type        = string
}

variable "sns_topic_arn" {
  description = "SNS topic for reviewer decisions (SHAZAM_NOTIFY_URL=sns:<arn>); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cloudwatch_exporter_role_name" {
  description = "Name of the CloudWatch exporter's IRSA role (deploy/monitoring/values-cloudwatch-exporter.yaml)."
  type        = string
}

variable "cloudwatch_exporter_namespace" {
  description = "Namespace of the CloudWatch exporter release (helm -n, deploy/monitoring)."
  type        = string
  default     = "monitoring"
}

variable "cloudwatch_exporter_service_account" {
  description = "Service account of the exporter (values-cloudwatch-exporter.yaml serviceAccount.name)."
  type        = string
  default     = "cloudwatch-exporter"
}

variable "studio_role_name" {
  description = "Name of the studio's IRSA role (deploy/k8s/studio/serviceaccount.yaml's annotation)."
  type        = string
}

variable "studio_namespace" {
  description = "Namespace of the studio (deploy/k8s/studio)."
  type        = string
  default     = "shazam"
}

variable "studio_service_account" {
  description = "Service account the studio's pods run as (deploy/k8s/studio/serviceaccount.yaml)."
  type        = string
  default     = "shazam-studio"
}

variable "studio_store_prefix" {
  description = "The store's key prefix in the bucket, \"\" or ending in \"/\" (modules/storage store_key_prefix): the studio's keys are under it."
  type        = string
  validation {
    condition     = var.studio_store_prefix == "" || endswith(var.studio_store_prefix, "/")
    error_message = "studio_store_prefix: \"\" or a prefix ending in \"/\"."
  }
}

variable "serve_role_name" {
  description = "Name of the search service's IRSA role (deploy/k8s/shop/serviceaccount.yaml's annotation)."
  type        = string
}

variable "serve_namespace" {
  description = "Namespace of the search service (deploy/k8s/shop)."
  type        = string
  default     = "shazam"
}

variable "serve_service_account" {
  description = "Service account the search service's pods run as (deploy/k8s/shop/serviceaccount.yaml)."
  type        = string
  default     = "shazam-serve"
}

variable "serve_store_prefix" {
  description = "The store's key prefix in the bucket, \"\" or ending in \"/\" (modules/storage store_key_prefix): the index and pages are under it."
  type        = string
  validation {
    condition     = var.serve_store_prefix == "" || endswith(var.serve_store_prefix, "/")
    error_message = "serve_store_prefix: \"\" or a prefix ending in \"/\"."
  }
}

variable "alb_controller_role_name" {
  description = "Name of the AWS Load Balancer Controller's IRSA role."
  type        = string
}

variable "alb_controller_namespace" {
  description = "Namespace of the AWS Load Balancer Controller release (helm -n, docs/deploy.md)."
  type        = string
  default     = "kube-system"
}

variable "alb_controller_service_account" {
  description = "Service account of the controller (its chart's serviceAccount.name)."
  type        = string
  default     = "aws-load-balancer-controller"
}
