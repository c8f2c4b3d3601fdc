/** Hybrid reward gated by correctness (DESIGN 4.3): `R = EM * (1 + r_process)`. */
export function hybridReward(em: number, process: number): number {
  return em * (1 + process);
}
