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
export { checkPasta, checkSlirp4netns, checkTunDevice } from './network-checks.js';
