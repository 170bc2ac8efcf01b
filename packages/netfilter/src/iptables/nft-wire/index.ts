// iptables-nft's kernel objects written over netlink (issue #54): the encoder and writer that
// replace iptables-nft-restore for full syncs on the nft backend.

export { IptablesNftUnsupportedError } from './errors';
export { IptablesNftNetlinkWriter, type IptablesNftWriteStats } from './netlink-writer';
export { encodeIptablesNftBatch, type IptablesNftBatchStats } from './ruleset-batch';
