/** A shape or dtype mismatch; the message names the op and the shapes involved. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}
