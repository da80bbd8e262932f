"use strict";(self.rspackChunkclustercraft=self.rspackChunkclustercraft||[]).push([[23],{475(r,t,e){var a=e(601),o=e.n(a),l=e(314),s=(e.n(l))()(o());s.push([r.id,`/* Only --jp-* variables, so light and dark themes both work. */
.jp-ClusterCraft-panel {
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
}

/* The cards scroll under the toolbar. */
.jp-ClusterCraft-content {
  flex: 1 1 auto;
  min-height: 0;
  overflow-y: auto;
}

.jp-ClusterCraft-body {
  padding: 0 6px 6px;
  box-sizing: border-box;
  container: clustercraft-panel / inline-size;
}

.jp-ClusterCraft-options {
  margin: 6px 0;
}

.jp-ClusterCraft-options > summary {
  cursor: pointer;
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-form {
  display: grid;
  grid-template-columns: 1fr;
  gap: 4px;
  padding: 4px 0 4px 12px;
}

.jp-ClusterCraft-field {
  display: grid;
  grid-template-columns: 11em 1fr;
  align-items: center;
  column-gap: 6px;
}

.jp-ClusterCraft-field input,
.jp-ClusterCraft-field select {
  min-width: 0;
  background: var(--jp-input-background);
  color: var(--jp-ui-font-color1);
  border: var(--jp-border-width) solid var(--jp-input-border-color);
  border-radius: 2px;
  padding: 2px 4px;
  font-size: var(--jp-ui-font-size1);
}

.jp-ClusterCraft-field input:focus,
.jp-ClusterCraft-field select:focus {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
}

.jp-ClusterCraft-field .jp-mod-invalid {
  border-color: var(--jp-error-color1);
}

.jp-ClusterCraft-fieldError {
  grid-column: 2;
  color: var(--jp-error-color1);
}

.jp-ClusterCraft-fieldError:empty,
.jp-ClusterCraft-formError:empty {
  display: none;
}

.jp-ClusterCraft-formError,
.jp-ClusterCraft-connection {
  color: var(--jp-error-color1);
  padding: 4px 0;
}

/* The text keeps the theme's own colours (readable in light and dark); the rule warns. */
.jp-ClusterCraft-connection {
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color1);
  border-left: 3px solid var(--jp-warn-color1);
  padding: 6px 8px;
  margin: 6px 0;
}

.jp-ClusterCraft-empty {
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-card {
  border: var(--jp-border-width) solid var(--jp-border-color2);
  border-radius: 4px;
  padding: 6px 8px;
  margin: 8px 0;
  background: var(--jp-layout-color1);
}

/* A new card takes the focus; show where it went. */
.jp-ClusterCraft-card:focus {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
  outline-offset: -1px;
}

/* At the sidebar's default width every pixel goes to the tables. */
@container clustercraft-panel (max-width: 320px) {
  .jp-ClusterCraft-card {
    padding: 4px 5px;
  }

  .jp-ClusterCraft-field {
    grid-template-columns: 1fr;
  }

  .jp-ClusterCraft-fieldError {
    grid-column: 1;
  }
}

.jp-ClusterCraft-card.jp-mod-lost {
  border-color: var(--jp-error-color2);
  background: var(--jp-layout-color2);
}

.jp-ClusterCraft-cardHeader {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 8px;
}

.jp-ClusterCraft-cardName {
  margin: 0;
  font-size: var(--jp-ui-font-size2);
  font-weight: 600;
}

.jp-ClusterCraft-status {
  border-radius: 8px;
  padding: 0 6px;
  font-size: var(--jp-ui-font-size0);
  color: var(--jp-ui-inverse-font-color1);
  background: var(--jp-layout-color4);
}

.jp-ClusterCraft-status[data-status='running'] {
  background: var(--jp-success-color1);
}

.jp-ClusterCraft-status[data-status='starting'],
.jp-ClusterCraft-status[data-status='closing'] {
  background: var(--jp-warn-color1);
}

.jp-ClusterCraft-status[data-status='lost'] {
  background: var(--jp-error-color1);
}

.jp-ClusterCraft-progress {
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-cardError {
  margin: 4px 0;
  color: var(--jp-error-color1);
  overflow-wrap: anywhere;
}

.jp-ClusterCraft-panel a.jp-ClusterCraft-dashboardLink,
.jp-ClusterCraft-tables a.jp-ClusterCraft-link {
  color: var(--jp-content-link-color);
  text-decoration: none;
}

.jp-ClusterCraft-panel a.jp-ClusterCraft-dashboardLink:hover,
.jp-ClusterCraft-tables a.jp-ClusterCraft-link:hover {
  text-decoration: underline;
}

.jp-ClusterCraft-actions {
  display: flex;
  flex-wrap: wrap;
  gap: 4px;
  margin: 6px 0;
}

.jp-ClusterCraft-button {
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color1);
  border: var(--jp-border-width) solid var(--jp-border-color1);
  border-radius: 2px;
  padding: 2px 8px;
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  line-height: 18px;
  cursor: pointer;
}

.jp-ClusterCraft-button:hover {
  background: var(--jp-layout-color3);
}

.jp-ClusterCraft-button:focus-visible {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
  outline-offset: 1px;
}

.jp-ClusterCraft-button[hidden] {
  display: none;
}

.jp-ClusterCraft-button:disabled {
  opacity: 0.5;
  cursor: default;
}

/* The Scale dialog: each mode's radio button, its fields indented below it. */
.jp-ClusterCraft-scaleBody {
  display: grid;
  gap: 6px;
}

.jp-ClusterCraft-scaleBody [role='radiogroup'] {
  display: grid;
  gap: 4px;
}

.jp-ClusterCraft-scaleChoice {
  display: flex;
  align-items: center;
  gap: 6px;
  color: var(--jp-ui-font-color0);
}

/* JupyterLab's dialog styles every input as a text box; radio buttons must look like themselves. */
.jp-ClusterCraft-scaleBody input[type='radio'] {
  appearance: auto;
  height: auto;
  margin: 0;
  accent-color: var(--jp-brand-color1);
}

.jp-ClusterCraft-scaleBody input[type='radio']:focus-visible {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
  outline-offset: 2px;
}

.jp-ClusterCraft-scaleGroup {
  display: grid;
  gap: 4px;
  padding-left: 22px;
}

.jp-ClusterCraft-scaleGroup .jp-ClusterCraft-field {
  grid-template-columns: 10em 6em;
}

.jp-ClusterCraft-scaleBody .jp-ClusterCraft-fieldError {
  grid-column: 1 / -1;
  max-width: 18em;
}

.jp-ClusterCraft-jobs {
  margin: 2px 0 4px;
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
}
`,""]),e.d(t,{},{A:s})},814(r,t,e){var a=e(601),o=e.n(a),l=e(314),s=(e.n(l))()(o());s.push([r.id,`/* Dashboard plots as panes. Only --jp-* variables, so light and dark themes both work. */
.jp-ClusterCraft-dashboardPane {
  position: relative;
}

.jp-ClusterCraft-dashboardGone {
  position: absolute;
  top: 8px;
  left: 8px;
  right: 8px;
  z-index: 1;
  padding: 8px 12px;
  border-left: 4px solid var(--jp-warn-color1);
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
}
`,""]),e.d(t,{},{A:s})},938(r,t,e){var a=e(601),o=e.n(a),l=e(314),s=(e.n(l))()(o());s.push([r.id,`/*
 * The one table renderer (scheduler summary, verdict, workers), in the panel and
 * in notebooks; only --jp-* variables, so light and dark themes both work.
 */
.jp-ClusterCraft-tables table {
  border-collapse: collapse;
  font-size: var(--jp-ui-font-size1);
  width: 100%;
}

.jp-ClusterCraft-tables th,
.jp-ClusterCraft-tables td {
  padding: 2px 4px;
  text-align: left;
  white-space: nowrap;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color3);
}

.jp-ClusterCraft-summaryTable th {
  color: var(--jp-ui-font-color2);
  font-weight: normal;
  width: 1%;
}

.jp-ClusterCraft-summaryTable td {
  overflow: hidden;
  text-overflow: ellipsis;
  max-width: 0;
}

/* An address: the ellipsis in the middle keeps the port readable; a button copies it. */
.jp-ClusterCraft-address {
  display: inline-flex;
  align-items: center;
  max-width: 100%;
  vertical-align: bottom;
}

.jp-ClusterCraft-addressText {
  display: flex;
  min-width: 0;
  color: inherit;
}

.jp-ClusterCraft-addressHead {
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
  min-width: 1em;
}

.jp-ClusterCraft-addressTail {
  flex: none;
  white-space: nowrap;
}

.jp-ClusterCraft-tables a.jp-ClusterCraft-link {
  color: var(--jp-content-link-color);
  text-decoration: none;
}

.jp-ClusterCraft-tables a.jp-ClusterCraft-link:hover {
  text-decoration: underline;
}

.jp-ClusterCraft-copyButton {
  flex: none;
  display: inline-flex;
  align-items: center;
  margin-left: 2px;
  padding: 0 2px;
  border: none;
  border-radius: 2px;
  background: transparent;
  cursor: pointer;
}

.jp-ClusterCraft-copyButton:hover {
  background: var(--jp-layout-color2);
}

.jp-ClusterCraft-copyButton:focus-visible {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
}

.jp-ClusterCraft-copyButton[hidden] {
  display: none;
}

.jp-ClusterCraft-copyButton svg {
  width: 14px;
  height: 14px;
}

/* The verdict on a run: its level colours a left rule, the text stays readable. */
.jp-ClusterCraft-verdict {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 4px 8px;
  margin-top: 6px;
  padding: 2px 6px;
  border-left: 3px solid var(--jp-border-color1);
  font-size: var(--jp-ui-font-size1);
  color: var(--jp-ui-font-color1);
}

.jp-ClusterCraft-verdict[hidden] {
  display: none;
}

.jp-ClusterCraft-verdictText {
  flex: 1 1 12em;
  overflow-wrap: anywhere;
}

.jp-ClusterCraft-verdict[data-level='fine'] {
  border-left-color: var(--jp-success-color1);
}

.jp-ClusterCraft-verdict[data-level='oversized'] {
  border-left-color: var(--jp-info-color1);
}

.jp-ClusterCraft-verdict[data-level='at-risk'] {
  border-left-color: var(--jp-warn-color1);
}

.jp-ClusterCraft-verdict[data-level='failed'] {
  border-left-color: var(--jp-error-color1);
}

.jp-ClusterCraft-verdict[data-level='waiting'] {
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-workersScroller {
  max-height: 400px;
  overflow: auto;
  margin-top: 8px;
}

.jp-ClusterCraft-workersTable thead th {
  position: sticky;
  top: 0;
  z-index: 1;
  background: var(--jp-layout-color2);
  padding: 0;
  vertical-align: bottom;
}

/* A column that does not fit: out of view, still read by screen readers. */
.jp-ClusterCraft-workersTable .jp-ClusterCraft-offscreen {
  position: absolute;
  width: 1px;
  height: 1px;
  padding: 0;
  border: 0;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}

/* Headers wrap ("Memory use", the sort arrow) rather than widen a narrow table. */
.jp-ClusterCraft-sortButton {
  all: unset;
  box-sizing: border-box;
  display: block;
  width: 100%;
  padding: 2px 4px;
  cursor: pointer;
  font-weight: 600;
  white-space: normal;
  color: var(--jp-ui-font-color1);
}

.jp-ClusterCraft-sortButton:focus-visible {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
  outline-offset: -1px;
}

.jp-ClusterCraft-sortIndicator {
  font-size: var(--jp-ui-font-size0);
}

th[aria-sort='ascending'] .jp-ClusterCraft-sortIndicator::after {
  content: ' ▲';
}

th[aria-sort='descending'] .jp-ClusterCraft-sortIndicator::after {
  content: ' ▼';
}

.jp-ClusterCraft-workerCell.jp-mod-numeric {
  text-align: right;
  font-variant-numeric: tabular-nums;
}

/* The worker's name opens its details; a dot tells its status at a glance. */
.jp-ClusterCraft-workerToggle {
  all: unset;
  display: inline-flex;
  align-items: center;
  gap: 3px;
  max-width: 100%;
  cursor: pointer;
}

.jp-ClusterCraft-workerToggle:focus-visible {
  outline: var(--jp-border-width) solid var(--jp-brand-color1);
  outline-offset: 1px;
}

.jp-ClusterCraft-chevron::before {
  content: '▸';
  display: inline-block;
  width: 0.7em;
  color: var(--jp-ui-font-color2);
  transition: transform 0.1s;
}

.jp-ClusterCraft-workerToggle[aria-expanded='true']
  .jp-ClusterCraft-chevron::before {
  transform: rotate(90deg);
}

.jp-ClusterCraft-workerName {
  max-width: 10em;
  overflow: hidden;
  text-overflow: ellipsis;
}

.jp-ClusterCraft-statusDot {
  flex: none;
  width: 8px;
  height: 8px;
  border-radius: 50%;
  background: var(--jp-error-color1);
}

.jp-ClusterCraft-statusDot[data-status='running'] {
  background: var(--jp-success-color1);
}

.jp-ClusterCraft-statusDot[data-status='init'],
.jp-ClusterCraft-statusDot[data-status='paused'] {
  background: var(--jp-warn-color1);
}

.jp-ClusterCraft-statusDot[data-status='closing'],
.jp-ClusterCraft-statusDot[data-status='closing_gracefully'],
.jp-ClusterCraft-statusDot[data-status='closed'] {
  background: var(--jp-layout-color4);
}

.jp-ClusterCraft-memoryCell {
  display: flex;
  align-items: center;
  gap: 4px;
}

/* Managed, unmanaged then spilled, against the worker's memory limit. */
.jp-ClusterCraft-memoryBar {
  display: inline-flex;
  flex: 0 1 80px;
  min-width: 2em;
  height: 10px;
  background: var(--jp-layout-color3);
  border-radius: 2px;
  overflow: hidden;

  --jp-clustercraft-bar-color: var(--jp-brand-color1);
}

.jp-ClusterCraft-memoryBar[data-level='target'] {
  --jp-clustercraft-bar-color: var(--jp-warn-color2);
}

.jp-ClusterCraft-memoryBar[data-level='spill'] {
  --jp-clustercraft-bar-color: var(--jp-warn-color0);
}

.jp-ClusterCraft-memoryBar[data-level='pause'] {
  --jp-clustercraft-bar-color: var(--jp-error-color1);
}

.jp-ClusterCraft-memoryBar[data-level='terminate'] {
  --jp-clustercraft-bar-color: var(--jp-error-color0);
}

.jp-ClusterCraft-memoryBar-managed {
  background: var(--jp-clustercraft-bar-color);
}

.jp-ClusterCraft-memoryBar-unmanaged {
  background: var(--jp-clustercraft-bar-color);
  opacity: 0.5;
}

.jp-ClusterCraft-memoryBar-spilled {
  background: repeating-linear-gradient(
    45deg,
    var(--jp-ui-font-color3),
    var(--jp-ui-font-color3) 2px,
    transparent 2px,
    transparent 4px
  );
}

.jp-ClusterCraft-memoryBar-label {
  flex: none;
  font-variant-numeric: tabular-nums;
}

/* Rows have one height, so the table can keep only the rows in view in the DOM. */
.jp-ClusterCraft-workerRow {
  height: 21px;
}

.jp-ClusterCraft-tables .jp-ClusterCraft-workersSpacer td {
  padding: 0;
  border: none;
}

/* A worker's details, under its row. */
.jp-ClusterCraft-tables .jp-ClusterCraft-workerDetails > td {
  white-space: normal;
  padding: 4px 6px 6px 18px;
  background: var(--jp-layout-color2);
}

.jp-ClusterCraft-workerDetailsList {
  display: grid;
  grid-template-columns: fit-content(40%) minmax(0, 1fr);
  gap: 2px 8px;
  margin: 0;
}

.jp-ClusterCraft-workerDetailsList > dt {
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-workerDetailsList > dd {
  margin: 0;
  min-width: 0;
  overflow-wrap: anywhere;
}

.jp-ClusterCraft-workerDetailsList > [hidden] {
  display: none;
}
`,""]),e.d(t,{},{A:s})},305(r,t,e){var a=e(601),o=e.n(a),l=e(314),s=(e.n(l))()(o());s.push([r.id,`/* Inline widgets (ClusterInfo, peak report); only --jp-* variables. */
.jp-ClusterCraft-clusterInfo,
.jp-ClusterCraft-peakReport {
  color: var(--jp-content-font-color1);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
}

.jp-ClusterCraft-clusterInfo .jp-ClusterCraft-workersScroller {
  max-height: 420px;
  overflow: auto;
}

.jp-ClusterCraft-peakReport-live {
  color: var(--jp-ui-font-color2);
  padding: 4px 0;
}

.jp-ClusterCraft-peakReport-body {
  display: flex;
  flex-wrap: wrap;
  gap: 16px;
  align-items: center;
  margin: 6px 0;
}

.jp-ClusterCraft-peakReport-figures th {
  text-align: left;
  font-weight: normal;
  color: var(--jp-ui-font-color2);
  padding-right: 12px;
}

.jp-ClusterCraft-peakReport-figures td {
  text-align: right;
  font-variant-numeric: tabular-nums;
}

.jp-ClusterCraft-peakReport-rationale {
  max-width: 60em;
  margin: 4px 0 8px;
  padding-left: 20px;
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-peakReport-error {
  color: var(--jp-error-color1);
}

.jp-ClusterCraft-peakReport-warnings {
  color: var(--jp-warn-color0);
}

.jp-ClusterCraft-peakReport-actions {
  display: flex;
  flex-wrap: wrap;
  gap: 8px;
  align-items: center;
}

.jp-ClusterCraft-peakReport-actions > button {
  flex: none; /* a long status never squeezes the buttons' labels */
}

.jp-ClusterCraft-peakReport-status {
  flex: 1 1 16em;
  color: var(--jp-ui-font-color2);
}

.jp-ClusterCraft-peakChart {
  overflow: visible;
}

.jp-ClusterCraft-peakChart-memory {
  fill: none;
  stroke: var(--jp-brand-color1);
  stroke-width: 1.5;
}

.jp-ClusterCraft-peakChart-baseline {
  stroke: var(--jp-ui-font-color3);
  stroke-dasharray: 2 3;
}

.jp-ClusterCraft-peakChart-limit {
  stroke: var(--jp-success-color1);
  stroke-dasharray: 6 3;
}

.jp-ClusterCraft-peakChart-peak {
  fill: var(--jp-warn-color1);
}

.jp-ClusterCraft-peakChart-label {
  fill: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
}

.jp-ClusterCraft-profileReport-table {
  border-collapse: collapse;
  margin: 6px 0;
}

.jp-ClusterCraft-profileReport-table th {
  text-align: right;
  font-weight: normal;
  color: var(--jp-ui-font-color2);
  padding: 2px 8px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
}

.jp-ClusterCraft-profileReport-table td {
  text-align: right;
  font-variant-numeric: tabular-nums;
  padding: 2px 8px;
}

.jp-ClusterCraft-profileReport-table th:first-child,
.jp-ClusterCraft-profileReport-table td:first-child {
  text-align: left;
}

.jp-ClusterCraft-profileChart-point {
  fill: var(--jp-brand-color1);
}

.jp-ClusterCraft-profileChart-fit {
  stroke: var(--jp-warn-color1);
  stroke-width: 1.5;
}
`,""]),e.d(t,{},{A:s})},314(r){r.exports=function(r){var t=[];return t.toString=function(){return this.map(function(t){var e="",a=void 0!==t[5];return t[4]&&(e+="@supports (".concat(t[4],") {")),t[2]&&(e+="@media ".concat(t[2]," {")),a&&(e+="@layer".concat(t[5].length>0?" ".concat(t[5]):""," {")),e+=r(t),a&&(e+="}"),t[2]&&(e+="}"),t[4]&&(e+="}"),e}).join("")},t.i=function(r,e,a,o,l){"string"==typeof r&&(r=[[null,r,void 0]]);var s={};if(a)for(var n=0;n<this.length;n++){var p=this[n][0];null!=p&&(s[p]=!0)}for(var i=0;i<r.length;i++){var u=[].concat(r[i]);a&&s[u[0]]||(void 0!==l&&(void 0===u[5]||(u[1]="@layer".concat(u[5].length>0?" ".concat(u[5]):""," {").concat(u[1],"}")),u[5]=l),e&&(u[2]&&(u[1]="@media ".concat(u[2]," {").concat(u[1],"}")),u[2]=e),o&&(u[4]?(u[1]="@supports (".concat(u[4],") {").concat(u[1],"}"),u[4]=o):u[4]="".concat(o)),t.push(u))}},t}},601(r){r.exports=function(r){return r[1]}},72(r){var t=[];function e(r){for(var e=-1,a=0;a<t.length;a++)if(t[a].identifier===r){e=a;break}return e}function a(r,a){for(var o={},l=[],s=0;s<r.length;s++){var n=r[s],p=a.base?n[0]+a.base:n[0],i=o[p]||0,u="".concat(p," ").concat(i);o[p]=i+1;var d=e(u),c={css:n[1],media:n[2],sourceMap:n[3],supports:n[4],layer:n[5]};if(-1!==d)t[d].references++,t[d].updater(c);else{var f=function(r,t){var e=t.domAPI(t);return e.update(r),function(t){t?(t.css!==r.css||t.media!==r.media||t.sourceMap!==r.sourceMap||t.supports!==r.supports||t.layer!==r.layer)&&e.update(r=t):e.remove()}}(c,a);a.byIndex=s,t.splice(s,0,{identifier:u,updater:f,references:1})}l.push(u)}return l}r.exports=function(r,o){var l=a(r=r||[],o=o||{});return function(r){r=r||[];for(var s=0;s<l.length;s++){var n=e(l[s]);t[n].references--}for(var p=a(r,o),i=0;i<l.length;i++){var u=e(l[i]);0===t[u].references&&(t[u].updater(),t.splice(u,1))}l=p}}},659(r){var t={};r.exports=function(r,e){var a=function(r){if(void 0===t[r]){var e=document.querySelector(r);if(window.HTMLIFrameElement&&e instanceof window.HTMLIFrameElement)try{e=e.contentDocument.head}catch(r){e=null}t[r]=e}return t[r]}(r);if(!a)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");a.appendChild(e)}},540(r){r.exports=function(r){var t=document.createElement("style");return r.setAttributes(t,r.attributes),r.insert(t,r.options),t}},56(r,t,e){r.exports=function(r){var t=e.nc;t&&r.setAttribute("nonce",t)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var t=r.insertStyleElement(r);return{update:function(e){var a,o,l;a="",e.supports&&(a+="@supports (".concat(e.supports,") {")),e.media&&(a+="@media ".concat(e.media," {")),(o=void 0!==e.layer)&&(a+="@layer".concat(e.layer.length>0?" ".concat(e.layer):""," {")),a+=e.css,o&&(a+="}"),e.media&&(a+="}"),e.supports&&(a+="}"),(l=e.sourceMap)&&"u">typeof btoa&&(a+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(l))))," */")),r.styleTagTransform(a,t,r.options)},remove:function(){var r;null===(r=t).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,t){if(t.styleSheet)t.styleSheet.cssText=r;else{for(;t.firstChild;)t.removeChild(t.firstChild);t.appendChild(document.createTextNode(r))}}},162(r,t,e){var a=e(72),o=e.n(a),l=e(825),s=e.n(l),n=e(659),p=e.n(n),i=e(56),u=e.n(i),d=e(540),c=e.n(d),f=e(113),C=e.n(f),j=e(475),v={};v.styleTagTransform=C(),v.setAttributes=u(),v.insert=p().bind(null,"head"),v.domAPI=s(),v.insertStyleElement=c(),o()(j.A,v),j.A&&j.A.locals&&j.A.locals;var h=e(938),m={};m.styleTagTransform=C(),m.setAttributes=u(),m.insert=p().bind(null,"head"),m.domAPI=s(),m.insertStyleElement=c(),o()(h.A,m),h.A&&h.A.locals&&h.A.locals;var b=e(305),g={};g.styleTagTransform=C(),g.setAttributes=u(),g.insert=p().bind(null,"head"),g.domAPI=s(),g.insertStyleElement=c(),o()(b.A,g),b.A&&b.A.locals&&b.A.locals;var x=e(814),w={};w.styleTagTransform=C(),w.setAttributes=u(),w.insert=p().bind(null,"head"),w.domAPI=s(),w.insertStyleElement=c(),o()(x.A,w),x.A&&x.A.locals&&x.A.locals}}]);