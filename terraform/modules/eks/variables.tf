variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups."
  type        = string
  default     = "1.33"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two zones or more) for the control plane's ENIs and the nodes."
  type        = list(string)
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API is reachable from the internet (from public_access_cidrs)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint (office, VPN, CI runners); never 0.0.0.0/0."
  type        = list(string)
  default     = []
  validation {
    condition     = !contains(var.public_access_cidrs, "0.0.0.0/0")
    error_message = "Open the API endpoint to named CIDRs only, not 0.0.0.0/0."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles/users given cluster-admin through EKS access entries (CI, operators)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days control-plane logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "cpu_instance_types" {
  description = "Instance types of the CPU node group (every Dagster pod and step except the render)."
  type        = list(string)
  default     = ["m6i.xlarge", "m6a.xlarge", "m5.xlarge"]
}

variable "cpu_min_size" {
  description = "Minimum size of the CPU node group (webserver, daemon and code server live here)."
  type        = number
  default     = 1
}

variable "cpu_desired_size" {
  description = "Initial size of the CPU node group; the autoscaler owns it afterwards."
  type        = number
  default     = 2
}

variable "cpu_max_size" {
  description = "Maximum size of the CPU node group."
  type        = number
  default     = 6
}

variable "cpu_spot" {
  description = "Run the CPU node group on Spot capacity (several instance types help availability)."
  type        = bool
  default     = false
}

variable "cpu_disk_size" {
  description = "Root volume of a CPU node in GiB (container images with open3d are large)."
  type        = number
  default     = 50
}

variable "gpu_instance_types" {
  description = "Instance types of the GPU node group; the render step asks for 1 GPU, 3 CPU, 12 GiB."
  type        = list(string)
  default     = ["g5.xlarge", "g4dn.xlarge"]
}

variable "gpu_ami_type" {
  description = "EKS-optimised NVIDIA AMI of the GPU node group."
  type        = string
  default     = "AL2023_x86_64_NVIDIA"
  validation {
    condition     = contains(["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"], var.gpu_ami_type)
    error_message = "gpu_ami_type must be AL2023_x86_64_NVIDIA or BOTTLEROCKET_x86_64_NVIDIA."
  }
}

variable "gpu_max_size" {
  description = "Maximum size of the GPU node group; keep equal to the Helm chart's gpu pool limit."
  type        = number
  default     = 2
}

variable "gpu_spot" {
  description = "Run the GPU node group on Spot capacity (a reclaimed render step is retried)."
  type        = bool
  default     = false
}

variable "gpu_disk_size" {
  description = "Root (AL2023) or data (Bottlerocket) volume of a GPU node in GiB."
  type        = number
  default     = 100
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
