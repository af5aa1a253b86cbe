export { hostnameFile, hostsFile, isValidHostname, resolvConf } from './etc-files.js';
export {
  hostNetwork,
  networkDriver,
  noneNetwork,
  type AttachTarget,
  type NetworkDriver,
  type NetworkLink,
  type NetworkMode,
} from './network-driver.js';
export { checkNetavark, checkPasta, checkSlirp4netns, checkTunDevice } from './network-checks.js';
export {
  contains,
  firstHost,
  formatIPv4,
  formatSubnet,
  freeSubnet,
  isHostAddress,
  nextFree,
  overlaps,
  parseIPv4,
  parseSubnet,
  ROOTLESS_UPLINK,
  type Subnet,
  type SubnetConfig,
} from './subnet.js';
export {
  bridgeName,
  DEFAULT_NETWORK,
  isValidNetworkName,
  RESERVED_NETWORK_NAMES,
  type Attachment,
  type PortMapping,
  type UserNetwork,
} from './user-network.js';
export {
  attachmentInfo,
  findNetworkHelper,
  netavarkInput,
  networksDir,
  reapSharedNamespace,
  setupNetworks,
  sharedNamespacePath,
  teardownNetworks,
  type AttachmentInfo,
  type NetworkHost,
  type NetworkOfContainer,
} from './netavark.js';
