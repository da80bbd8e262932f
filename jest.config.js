// Plain ts-jest: the units under test import no JupyterLab packages.
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: 'src/.*/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: { '\\.(css)$': '<rootDir>/src/__tests__/style-mock.js' }
};
