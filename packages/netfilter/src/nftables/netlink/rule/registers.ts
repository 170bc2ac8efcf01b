// Register allocation as nft does it: 32-bit slots counted from 1 within a statement; a plain
// selector takes a whole 16-byte register (4 slots), a concatenation the slots of its parts. A
// slot becomes a kernel register number the way nft writes it: slots at a 16-byte boundary as
// NFT_REG_1…4, the others as NFT_REG32_xx.

export const SLOTS_PER_REGISTER = 4;
const NFT_REG_1 = 1;
const NFT_REG32_00 = 8;

/** Kernel register number of a 1-based 32-bit slot (0 stays the verdict register). */
export function registerNumber(slot: number): number {
  if (slot === 0) return 0;
  const offset = slot - NFT_REG_1;
  return offset % SLOTS_PER_REGISTER === 0 ? NFT_REG_1 + offset / SLOTS_PER_REGISTER : offset + NFT_REG32_00;
}

/** 32-bit slots a value of `length` bytes occupies. */
export function slotsFor(length: number): number {
  return Math.ceil(length / 4);
}

/** A statement's allocator: each statement starts again at slot 1 (nft releases them in between). */
export class SlotAllocator {
  private low = 1;

  allocate(slots: number): number {
    const slot = this.low;
    this.low += slots;
    return slot;
  }
}
