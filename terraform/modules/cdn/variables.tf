variable "name" {
  description = "Name prefix of the distribution's policies, function and logs (shazam-<environment>)."
  type        = string
}

variable "host_name" {
  description = "The shop's host name (shop.<domain_name>): the distribution's alias, its certificate, and the origin the pages' CSP names."
  type        = string
}

variable "account_id" {
  description = "AWS account of the environment (the log key's administrators)."
  type        = string
}

variable "bucket_name" {
  description = "The store bucket."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the store bucket: the bucket policy statement names <bucket_arn>/<published_prefix>*."
  type        = string
}

variable "bucket_regional_domain_name" {
  description = "The bucket's regional domain name (<bucket>.s3.<region>.amazonaws.com): the origin."
  type        = string
}

variable "published_prefix" {
  description = "Key prefix of the page tree in the bucket: <store prefix>published/ (modules/storage output published_prefix). The origin path; nothing else of the bucket is reachable."
  type        = string
  validation {
    condition     = can(regex("^([^/]+/)*published/$", var.published_prefix))
    error_message = "published_prefix: the store's published/ folder, ending in \"/\" and not starting with one."
  }
}

variable "search_host_name" {
  description = "Host name of the search API (served over HTTPS) behind /search* on the shop's own origin, so the catalogue's search box works; \"\" for none."
  type        = string
  default     = ""
  validation {
    condition     = var.search_host_name == "" || can(regex("^[a-z0-9.-]+$", var.search_host_name))
    error_message = "search_host_name: a bare host name (no scheme, port or path), or \"\"."
  }
}

variable "not_found_page_path" {
  description = "The page shoppers get, with status 404, for a key that is not published (S3 answers 403 without list rights)."
  type        = string
  default     = "/404.html"
}

variable "certificate_arn" {
  description = "An existing ACM certificate for host_name in us-east-1; null makes one (DNS validation)."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 zone of host_name's domain: the certificate's validation record and shop's alias records are written there; null: by hand."
  type        = string
  default     = null
}

variable "price_class" {
  description = "CloudFront price class: which edge locations serve the shop."
  type        = string
  default     = "PriceClass_100"
  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class: PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "search_rate_limit" {
  description = "Requests to /search* one IP address may make in 5 minutes before the firewall blocks it (for as long as it stays above)."
  type        = number
  default     = 1500
  validation {
    condition     = var.search_rate_limit >= 100
    error_message = "search_rate_limit: at least 100 (WAF's minimum is 10; a shared office address makes many)."
  }
}

variable "log_retention_days" {
  description = "Days the shop's access logs are kept in CloudWatch Logs (us-east-1)."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
