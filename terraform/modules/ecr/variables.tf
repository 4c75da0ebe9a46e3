variable "name" {
  description = "Repository name (deploy/helm/values.yaml image.repository ends with it)."
  type        = string
}

variable "keep_images" {
  description = "Tagged images kept; older ones expire (each release has a unique git-sha tag)."
  type        = number
  default     = 50
}

variable "untagged_expiration_days" {
  description = "Days after which untagged images (failed or superseded pushes) expire."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
