export default { queue() {} };
