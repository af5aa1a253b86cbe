export {
  hostnameFile,
  hostsFile,
  isValidHostname,
  parseResolvConf,
  resolvConf,
  type HostsInput,
  type ResolvInput,
} from './etc-files.js';
export { networkDriver, type EtcInput, type NetworkDriver } from './network-driver.js';
export {
  connectsNamespace,
  formatNetworkMode,
  parseNetworkMode,
  recordedNetworkMode,
  type NetworkMode,
  type NetworkRequest,
  type Slirp4netnsOptions,
} from './network-mode.js';
export {
  formatPort,
  formatPortsColumn,
  hostAddress,
  parseExpose,
  parsePublish,
  portKey,
  publishAllRequests,
  takeHostPorts,
  unprivilegedPortStart,
  type PortProtocol,
  type PortRequest,
  type PublishedPort,
} from './ports.js';
export {
  GATEWAY,
  GUEST_ADDRESS,
  HELPER_LOG_FILE,
  HELPER_PID_FILE,
  NETNS_FILE,
  RELEASE_NETWORK,
  shellQuote,
  type UserModeSetup,
} from './user-mode.js';
export { checkDefaultNetwork, checkNetavark, checkPasta, checkSlirp4netns, checkTunDevice } from './network-checks.js';
export { parseAddHost, parseDnsServer, parseMacAddress } from './settings-syntax.js';
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
