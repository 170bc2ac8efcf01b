// @nodeagent/node-status/machine: reading the machine (CPUs, memory, OS image, architecture) from
// /proc, /sys and /etc, and the parsers behind it.
export {
  countCpuList,
  goArch,
  hostMachineSource,
  type MachineInfo,
  type MachineSource,
  parseCpuMax,
  parseMemTotal,
  parseOsImage,
  parseSwapTotal,
  type ReadMachineInfoOptions,
  readMachineInfo,
} from '../machine-info';
