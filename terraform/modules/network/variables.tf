variable "name" {
  description = "Name prefix of every resource (e.g. shazam-dev)."
  type        = string
}

variable "cidr_block" {
  description = "CIDR of the VPC; /16 recommended (pods take VPC addresses under the VPC CNI)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = <<-EOT
    Zones to spread subnets over, named explicitly (e.g. ["eu-west-1a", "eu-west-1b"]) so the
    subnet layout never shifts when AWS adds or retires a zone.
  EOT
  type        = list(string)
  validation {
    # Private /19s take the first six of eight /19 slots; public /24s sit in the seventh.
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6
    error_message = "Give two to six zones: EKS needs two, the address plan fits six."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, dev) instead of one per zone (prod)."
  type        = bool
  default     = false
}

variable "cluster_name" {
  description = "EKS cluster whose load balancers may use these subnets (subnet discovery tags)."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
