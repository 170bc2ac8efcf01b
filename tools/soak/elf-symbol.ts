/**
 * Where a shared library's exported function starts in its file: what a uprobe is placed by
 * (the kernel's uprobe_events takes a path and a file offset, not a symbol name). Reads an ELF64
 * little-endian object's dynamic symbol table (.dynsym, named through the string table its
 * sh_link gives) and maps the symbol's address to the file through the PT_LOAD segment that
 * holds it. Field offsets are the System V ABI's (elf.h).
 */
import { readFileSync } from 'node:fs';

/** The file is not an ELF64 little-endian object, or does not export the symbol. */
export class ElfSymbolError extends Error {
  override readonly name = 'ElfSymbolError';
}

const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const SECTION_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;
const SYMBOL_BYTES = 24;

/** The file offset of `symbol`'s first instruction in the ELF object at `path`. */
export function elfSymbolFileOffset(path: string, symbol: string): number {
  const elf = readFileSync(path);
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1)
    throw new ElfSymbolError(`${path}: not an ELF64 little-endian object`);
  const address = dynamicSymbolAddress(elf, path, symbol);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * PROGRAM_HEADER_BYTES;
    if (elf.readUInt32LE(ph) !== PT_LOAD) continue;
    const offset = Number(elf.readBigUInt64LE(ph + 8));
    const vaddr = Number(elf.readBigUInt64LE(ph + 16));
    const filesz = Number(elf.readBigUInt64LE(ph + 32));
    if (address >= vaddr && address < vaddr + filesz) return address - vaddr + offset;
  }
  throw new ElfSymbolError(`${path}: ${symbol} (0x${address.toString(16)}) is in no loaded segment`);
}

function dynamicSymbolAddress(elf: Buffer, path: string, symbol: string): number {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const section = (i: number) => {
    const sh = shoff + i * SECTION_HEADER_BYTES;
    return {
      type: elf.readUInt32LE(sh + 4),
      offset: Number(elf.readBigUInt64LE(sh + 24)),
      size: Number(elf.readBigUInt64LE(sh + 32)),
      link: elf.readUInt32LE(sh + 40),
    };
  };
  for (let i = 0; i < elf.readUInt16LE(0x3c); i++) {
    const dynsym = section(i);
    if (dynsym.type !== SHT_DYNSYM) continue;
    const names = section(dynsym.link);
    for (let at = dynsym.offset; at < dynsym.offset + dynsym.size; at += SYMBOL_BYTES) {
      const value = Number(elf.readBigUInt64LE(at + 8));
      if (value === 0) continue;
      const name = names.offset + elf.readUInt32LE(at);
      if (elf.toString('latin1', name, elf.indexOf(0, name)) === symbol) return value;
    }
  }
  throw new ElfSymbolError(`${path} exports no ${symbol}`);
}
