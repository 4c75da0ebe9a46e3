variable "name" {
  description = "Name prefix of the user pool and its app client (shazam-<environment>)."
  type        = string
}

variable "host_name" {
  description = "The studio's host name (studio.<domain>): SHAZAM_STUDIO_HOST, the Ingress host, the certificate's name; the callback URL is https://<host_name>/auth/callback."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.host_name))
    error_message = "host_name: a lower-case DNS name such as studio.shazam.example.com (no scheme, no wildcard)."
  }
}

variable "domain_prefix" {
  description = "Prefix of the hosted sign-in pages' domain, <prefix>.auth.<region>.amazoncognito.com (unique in the region; it may not contain \"aws\", \"amazon\" or \"cognito\")."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", var.domain_prefix))
    error_message = "domain_prefix: lower-case letters, digits and dashes, without aws, amazon or cognito."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (and with it every account) (prod)."
  type        = bool
}

variable "mfa" {
  description = "Second factor (an authenticator app): OPTIONAL (each person may turn it on) or ON (everyone, at their first sign-in)."
  type        = string
  validation {
    condition     = contains(["OPTIONAL", "ON"], var.mfa)
    error_message = "mfa: OPTIONAL or ON."
  }
}

variable "threat_protection" {
  description = "Cognito threat protection (advanced security): AUDIT records risky sign-ins, ENFORCED also blocks them; OFF for none. AUDIT and ENFORCED need the Plus feature plan (billed per active user)."
  type        = string
  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.threat_protection)
    error_message = "threat_protection: OFF, AUDIT or ENFORCED."
  }
}

variable "certificate_arn" {
  description = "ARN of an existing ACM certificate for host_name (in the cluster's region); null makes one here, validated through DNS."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of host_name's domain: the certificate's validation record is written there. null: create it by hand from the output certificate_validation_records."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
