variable "name" {
  description = "Identifier of the DB instance and prefix of its companions (e.g. shazam-dev-dagster)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two zones or more) of the DB subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on the PostgreSQL port: the EKS node security group."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major (or major.minor) version; minor upgrades are automatic."
  type        = string
  default     = "16"
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version."
  type        = string
  default     = "postgres16"
}

variable "instance_class" {
  description = "DB instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB (event logs grow with every run)."
  type        = number
  default     = 200
}

variable "database_name" {
  description = "Database Dagster uses (deploy/helm/values.yaml postgresql.postgresqlDatabase)."
  type        = string
  default     = "dagster"
}

variable "username" {
  description = "Master user (deploy/helm/values.yaml postgresql.postgresqlUsername)."
  type        = string
  default     = "dagster"
}

variable "multi_az" {
  description = "Standby in a second zone (prod)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (prod: true). When false, destroy skips the final snapshot."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days automated backups are kept."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Days the exported PostgreSQL logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
