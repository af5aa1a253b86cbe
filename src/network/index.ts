export { hostnameFile, hostsFile, isValidHostname, resolvConf } from './etc-files.js';
