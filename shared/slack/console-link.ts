/**
 * A Cloud Console link for a resource, by asset type; anything else links to its project's dashboard.
 * Compute resource names carry the project id; buckets need none.
 */
export function consoleLink(resourceName: string, assetType: string, project: string | null): string {
  const base = 'https://console.cloud.google.com';
  const path = resourceName.replace(/^\/\/[^/]+\//, '');
  const enc = encodeURIComponent;
  const m = (re: RegExp) => re.exec(path);
  const q = (p: string | undefined) => (p ? `?project=${enc(p)}` : '');
  switch (assetType) {
    case 'storage.googleapis.com/Bucket':
      return `${base}/storage/browser/${enc(path)}`;
    case 'compute.googleapis.com/Firewall': {
      const x = m(/^projects\/([^/]+)\/global\/firewalls\/([^/]+)$/);
      if (x) return `${base}/networking/firewalls/details/${enc(x[2]!)}${q(x[1])}`;
      break;
    }
    case 'compute.googleapis.com/Instance': {
      const x = m(/^projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/);
      if (x) return `${base}/compute/instancesDetail/zones/${enc(x[2]!)}/instances/${enc(x[3]!)}${q(x[1])}`;
      break;
    }
    case 'compute.googleapis.com/Disk': {
      const x = m(/^projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/);
      if (x) return `${base}/compute/disksDetail/zones/${enc(x[2]!)}/disks/${enc(x[3]!)}${q(x[1])}`;
      break;
    }
    case 'compute.googleapis.com/Subnetwork': {
      const x = m(/^projects\/([^/]+)\/regions\/([^/]+)\/subnetworks\/([^/]+)$/);
      if (x) return `${base}/networking/subnetworks/details/${enc(x[2]!)}/${enc(x[3]!)}${q(x[1])}`;
      break;
    }
    case 'sqladmin.googleapis.com/Instance': {
      const x = m(/^projects\/([^/]+)\/instances\/([^/]+)$/);
      if (x) return `${base}/sql/instances/${enc(x[2]!)}/overview${q(x[1])}`;
      break;
    }
  }
  const projectId = /^projects\/([^/]+)/.exec(path)?.[1] ?? project?.replace(/^projects\//, '');
  return `${base}/home/dashboard${q(projectId)}`;
}
