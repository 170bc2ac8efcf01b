import { describe, expect, it } from 'vitest';
import { parseProcIpVs } from './real/proc-ip-vs';

// As the kernel writes it (net/netfilter/ipvs/ip_vs_ctl.c): hex addresses and ports, IPv6 in full.
const TEXT = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A600064:0050 rr 
  -> 0AFA0C02:1F90      Masq    1      0          0         
  -> 0AFA0B02:1F90      Masq    0      1          0         
TCP  0AFA010A:7594 rr persistent 10800 FFFFFFFF
TCP  [fd00:0096:0000:0000:0000:0000:0000:0100]:0050 rr 
  -> [fd00:0250:0011:0000:0000:0000:0000:0002]:1F90      Masq    1      0          0         
FWM  00000001 rr 
  -> 0A000001:0000      Route   1      0          0         
`;

describe('parseProcIpVs', () => {
  it('spells virtual and real servers as ipvsadm -Ln does, with weights', () => {
    const table = parseProcIpVs(TEXT);
    expect([...table.keys()]).toEqual([
      'TCP  10.96.0.100:80',
      'TCP  10.250.1.10:30100',
      'TCP  [fd00:96::100]:80',
    ]);
    expect(table.get('TCP  10.96.0.100:80')).toEqual([
      { address: '10.250.12.2:8080', weight: 1 },
      { address: '10.250.11.2:8080', weight: 0 },
    ]);
    expect(table.get('TCP  10.250.1.10:30100')).toEqual([]);
    expect(table.get('TCP  [fd00:96::100]:80')).toEqual([{ address: '[fd00:250:11::2]:8080', weight: 1 }]);
  });

  it('has no virtual servers for a table with none', () => {
    expect(parseProcIpVs(TEXT.split('\n').slice(0, 3).join('\n')).size).toBe(0);
  });
});
