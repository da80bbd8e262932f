// Plain ts-jest in jsdom: the units under test are the model, formatting and the table renderer.
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: '/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: { '\\.(css|svg)$': '<rootDir>/jest/file-mock.js' }
};
