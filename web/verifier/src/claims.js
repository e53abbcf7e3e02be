// A claim that does not hold: names the bundle field (as bctrace verify's ClaimMismatch does).
export class ClaimMismatch extends Error {
  constructor(field, detail) {
    super(`${field}: ${detail}`);
    this.field = field;
  }
}

export const HEX = /^0x(?:[0-9a-f]{2})*$/;
