// Plain ts-jest in jsdom: the units under test are the model, formatting and the table renderer.
// JupyterLab packages (and their ESM dependencies) ship ES modules, so ts-jest compiles them too.
const esModules = [
  '@jupyterlab',
  '@jupyter',
  '@jupyter-widgets',
  '@lumino',
  '@microsoft',
  'lib0',
  'y-protocols',
  'yjs',
  'exenv-es6',
  'nanoid',
  'vscode-ws-jsonrpc'
].join('|');

module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: '/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    '^.+\\.jsx?$': [
      'ts-jest',
      { tsconfig: 'tsconfig.test.json', isolatedModules: true }
    ]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules})/)`],
  setupFiles: ['<rootDir>/jest/shim.js'],
  moduleNameMapper: {
    '\\.css$': '<rootDir>/jest/file-mock.js',
    '\\.svg$': '<rootDir>/jest/svg-mock.js'
  }
};
